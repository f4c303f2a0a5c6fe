# Activates the virtual environment at __VENV_COMMENT__ (written by rvenv).
# Use it with `source __VENV_COMMENT__/bin/activate.fish`; `deactivate` undoes it.

if set -q VIRTUAL_ENV; and functions -q deactivate
    deactivate
end

function deactivate --description 'Leave the virtual environment'
    if set -q _rvenv_saved_path
        set -gx PATH $_rvenv_saved_path
        set -e _rvenv_saved_path
    end
    if set -q _rvenv_saved_pythonhome
        set -gx PYTHONHOME $_rvenv_saved_pythonhome
        set -e _rvenv_saved_pythonhome
    end
    if functions -q _rvenv_saved_fish_prompt
        functions -e fish_prompt
        functions -c _rvenv_saved_fish_prompt fish_prompt
        functions -e _rvenv_saved_fish_prompt
    end
    set -e VIRTUAL_ENV
    set -e VIRTUAL_ENV_PROMPT
    if test "$argv[1]" != nondestructive
        functions -e deactivate
    end
end

set -gx VIRTUAL_ENV __VENV_FISH__
set -gx VIRTUAL_ENV_PROMPT __PROMPT_FISH__

set -g _rvenv_saved_path $PATH
set -gx PATH "$VIRTUAL_ENV/bin" $PATH

if set -q PYTHONHOME
    set -g _rvenv_saved_pythonhome $PYTHONHOME
    set -e PYTHONHOME
end

if not set -q VIRTUAL_ENV_DISABLE_PROMPT; and functions -q fish_prompt
    functions -c fish_prompt _rvenv_saved_fish_prompt
    function fish_prompt
        # Keep the status of the last command for the original prompt to show.
        set -l last_status $status
        printf '(%s) ' $VIRTUAL_ENV_PROMPT
        echo "exit $last_status" | source
        _rvenv_saved_fish_prompt
    end
end
